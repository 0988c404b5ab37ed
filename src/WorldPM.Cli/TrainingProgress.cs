using System.Globalization;
using WorldPM.Evaluation;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// What <c>worldpm train</c> shows while it runs: a progress line every few steps, a line for each
/// gradient-norm spike (training goes on), each evaluation's tables, and every step and evaluation in
/// the metrics JSONL when there is one.
/// </summary>
internal sealed class TrainingProgress(TextWriter log, int logEvery, long lastStep, MetricsLog? metrics) : IDisposable
{
    private readonly GradNormWatch _gradNorms = new();

    public void OnStep(StepMetrics m)
    {
        double average = _gradNorms.Average;
        bool spike = _gradNorms.Observe(m.GradNorm);
        metrics?.Step(m, spike);
        if (m.Step == 1 || m.Step == lastStep || m.Step % logEvery == 0)
            log.WriteLine(Invariant($"step {m.Step,6}  loss {m.Loss:F4}  acc {m.Accuracy:F3}  margin {m.Margin,8:F4}  grad norm {m.GradNorm,8:F3}  lr {m.LearningRate:E2}  {m.TokensPerSecond,8:F0} tok/s"));
        if (spike)
            log.WriteLine(Invariant($"step {m.Step,6}  grad norm spike: {m.GradNorm:G4} vs a running average of {average:G4} (logged; training continues)"));
    }

    public void OnEval(long step, EvaluationReport report)
    {
        metrics?.Eval(step, report);
        log.WriteLine($"evaluation at step {step}:");
        ReportOutput.WriteText(log, report);
    }

    public void Dispose() => metrics?.Dispose();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
