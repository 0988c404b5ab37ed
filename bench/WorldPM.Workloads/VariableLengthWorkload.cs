using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Workloads;

/// <summary>
/// W4v and W5v: W4's training step and W5's scoring on sequences as long as real preference data
/// (<see cref="HhRlhfLengths"/>; the lengths drawn once per run, fresh random ids every repetition), packed (the
/// default of train, eval and score) and padded to the longest, alternating repetition by repetition on the same
/// sequences. The rate counts model FLOPs of the real tokens only, so both layouts do the same counted work; the
/// padded twin's time gives the speedup, set against the ideal padded tokens / real tokens (target: 85 % of it).
/// </summary>
public sealed class VariableLengthWorkload(bool training) : IWorkload
{
    public string Id => training ? "W4v" : "W5v";

    public string Title => training
        ? "W4's training step on hh-rlhf-length pairs, packed vs padded"
        : "W5's scoring on hh-rlhf-length sequences, packed vs padded";

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        int sequences = training ? settings.Pick(16, 4) : settings.Pick(64, 8);
        int[] lengths = HhRlhfLengths.Sample(sequences, settings.Pick(HhRlhfLengths.MaxLength, 32), seeds.NextInt());
        using var model = new RewardModel(context, ReferenceModel.Config, seeds.NextInt());
        using Trainer? trainer = training ? new Trainer(context, model, new TrainingOptions
        {
            PairsPerMicroBatch = sequences / 2,
            LearningRate = 1e-4,
            WeightDecay = 0.01,
            WarmupFraction = 0,
        }, totalSteps: 2 * settings.Repetitions + 2) : null;

        SequenceBatch packed = null!, padded = null!;
        Action Setup(bool pack) => () =>
        {
            var random = new Random(seeds.NextInt());
            int[][] ids = [.. lengths.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(ReferenceModel.Config.VocabSize)).ToArray())];
            SequenceBatch batch = SequenceBatch.FromSequences(ReferenceModel.Config, ids,
                pack ? SequenceLayout.Packed : SequenceLayout.Padded);
            if (pack) packed = batch;
            else padded = batch;
        };
        Action Body(Func<SequenceBatch> batch) => training
            ? () => trainer!.TrainStep([new PairBatch(batch())])
            : () => model.Score(batch());
        (Timing packedTiming, Timing paddedTiming) = Timing.MeasureAlternating(context, settings.Repetitions,
            (Setup(pack: true), Body(() => packed)), (Setup(pack: false), Body(() => padded)));

        long real = lengths.Sum(n => (long)n), rows = (long)sequences * lengths.Max();
        int passes = training ? 3 : 1;
        double work = lengths.Sum(n => ReferenceModel.ModelFlops(model, 1, n, passes));
        string shape = $"{sequences} sequences of hh-rlhf lengths ({real} tokens, {rows} padded), fp32" +
            (training ? ", AdamW" : "");
        return
        [
            new WorkloadResult(Id, training ? "step_ms_packed" : "score_ms_packed", shape, packedTiming, work, CeilingKind.Gemm,
                $"FLOPs of the real tokens: {(training ? 6 : 2)}*non-embedding params*tokens + attention of each sequence",
                training ? 0.75 : 0.80, Packing: new PackingComparison(paddedTiming, real, rows)),
        ];
    }
}
