using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using WorldPM.Evaluation;
using WorldPM.Native;
using WorldPM.Tasks;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm demo</c>: the main job on the embedded default. Trains a small Qwen2-style reward model on
/// the built-in task (sorting and max/min questions with near-miss wrong answers, no download) on the
/// CPU backend, evaluates it on the held-out split and says whether it reached the target accuracy.
/// With <c>--json</c> the last line is one JSON object: heldout_accuracy, steps, seconds. Without it, on an
/// interactive terminal a live progress bar stands in for the step lines.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The held-out accuracy the demo promises (issue: ≥ 95% in ≤ 5 minutes on 2 cores).</summary>
    internal const double TargetAccuracy = 0.95;

    internal static int Run(TextWriter output, int steps, int seed, bool json, IAnsiConsole? terminal, Backend backend)
    {
        if (steps < 1) throw new ArgumentException($"--steps is {steps}; it must be at least 1");
        using var context = WorldPMContext.Create(backend);
        var options = new EmbeddedDemoOptions { Steps = steps, Seed = seed };
        if (!json)
        {
            output.WriteLine($"embedded task: sort / max / min questions, chosen = correct, rejected = near miss");
            output.WriteLine($"model: {options.Model.NumHiddenLayers} layers, d {options.Model.HiddenSize}, " +
                $"{options.Model.NumAttentionHeads} heads ({options.Model.NumKeyValueHeads} kv), byte tokenizer; " +
                $"{BackendNames.Name(context.Backend)} backend, {context.NumThreads} threads; {steps} steps of {options.Training.PairsPerMicroBatch} pairs");
        }

        EmbeddedDemoResult result = json ? EmbeddedDemo.Run(context, options)
            : terminal is not null ? RunUnderBar(terminal, context, options)
            : RunWithLines(output, context, options);

        double accuracy = result.HeldOut.Overall.Accuracy;
        bool reached = accuracy >= TargetAccuracy;
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["heldout_accuracy"] = accuracy,
                ["heldout_pairs"] = result.HeldOut.Overall.Pairs,
                ["heldout_loss"] = result.HeldOut.Overall.Loss,
                ["steps"] = result.Steps,
                ["seconds"] = Math.Round(result.Seconds, 2),
                ["target_reached"] = reached,
            }));
        }
        else
        {
            string verdict = reached ? "target {0:P0} reached" : "below the {0:P0} target";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out pairwise accuracy {accuracy:P1} on {result.HeldOut.Overall.Pairs} pairs after {result.Steps} steps in {result.Seconds:F1} s: ")
                + string.Format(CultureInfo.InvariantCulture, verdict, TargetAccuracy));
        }
        return reached ? 0 : 4;
    }

    private static EmbeddedDemoResult RunUnderBar(IAnsiConsole terminal, WorldPMContext context, EmbeddedDemoOptions options) =>
        LiveProgressBar.Show(terminal, $"step 0/{options.Steps}", options.Steps, 0, bar => EmbeddedDemo.Run(context, options,
            onStep: m => bar.Report(m.Step, TrainingProgress.LiveDescription(m, options.Steps)),
            onEval: (step, report) => bar.WriteLine(HeldOutLine(step, report))));

    private static EmbeddedDemoResult RunWithLines(TextWriter output, WorldPMContext context, EmbeddedDemoOptions options) =>
        EmbeddedDemo.Run(context, options,
            onStep: m =>
            {
                if (m.Step % 50 == 0 || m.Step == 1)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"step {m.Step,5}  loss {m.Loss:F4}  acc {m.Accuracy:F3}  margin {m.Margin,7:F3}  grad norm {m.GradNorm,7:F3}  lr {m.LearningRate:E2}  {m.TokensPerSecond,8:F0} tok/s"));
            },
            onEval: (step, report) => output.WriteLine(HeldOutLine(step, report)));

    private static string HeldOutLine(long step, EvaluationReport report) => string.Create(CultureInfo.InvariantCulture,
        $"held-out @ {step}: accuracy {report.Overall.Accuracy:P1}, BT loss {report.Overall.Loss:F4}  ({Subsets(report)})");

    private static string Subsets(EvaluationReport report) => string.Join(", ",
        report.BySubset.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value.Accuracy:P1}")));
}
