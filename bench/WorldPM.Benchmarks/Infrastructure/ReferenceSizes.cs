using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Workloads;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// The sizes the realistic shapes are made of, read from the workload catalogue so that an op family here times
/// the op at the size <c>worldpm bench</c> runs it: W1's tensor, the reference model of W4 and W5, and W2's batch of
/// sequences.
/// </summary>
public static class ReferenceSizes
{
    /// <summary>The reference model (vocabulary, width, heads, MLP).</summary>
    public static ModelConfig Model => ReferenceModel.Config;

    /// <summary>W2's full shape: B4 x T512.</summary>
    public static AttentionShape Batch => AttentionWorkload.Shape(quick: false);

    /// <summary>Tokens in <see cref="Batch"/>: B x T.</summary>
    public static long Tokens => Batch.Batch * Batch.Tokens;

    /// <summary>Elements of W1's x: 4096 x 2048.</summary>
    public static long GeluElements => GeluWorkload.Input(quick: false).Rows * GeluWorkload.Input(quick: false).Cols;
}
