using System.Globalization;
using Spectre.Console;
using WorldPM.Evaluation;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// What <c>worldpm train</c> shows while it runs: a progress line every few steps, a line for each
/// gradient-norm spike (training goes on), each evaluation's tables, and every step and evaluation in
/// the metrics JSONL when there is one. On an interactive terminal (<see cref="Show{T}"/> given one) the
/// progress lines give way to a live <see cref="LiveProgressBar"/>; spikes and evaluations still print.
/// </summary>
internal sealed class TrainingProgress(TextWriter log, int logEvery, long lastStep, MetricsLog? metrics) : IDisposable
{
    private readonly GradNormWatch _gradNorms = new();
    private LiveProgressBar? _bar;

    /// <summary>
    /// Runs <paramref name="training"/> (which reports through <see cref="OnStep"/> and <see cref="OnEval"/>),
    /// under a live bar from <paramref name="firstStep"/> to the last step when <paramref name="terminal"/> is
    /// given, else with the plain lines.
    /// </summary>
    public T Show<T>(IAnsiConsole? terminal, long firstStep, Func<T> training)
    {
        if (terminal is null) return training();
        return LiveProgressBar.Show(terminal, Invariant($"step {firstStep}/{lastStep}"), lastStep, firstStep, bar =>
        {
            _bar = bar;
            try { return training(); }
            finally { _bar = null; }
        });
    }

    public void OnStep(StepMetrics m)
    {
        double average = _gradNorms.Average;
        bool spike = _gradNorms.Observe(m.GradNorm);
        metrics?.Step(m, spike);
        if (_bar is not null)
            _bar.Report(m.Step, LiveDescription(m, lastStep));
        else if (m.Step == 1 || m.Step == lastStep || m.Step % logEvery == 0)
            log.WriteLine(Invariant($"step {m.Step,6}  loss {m.Loss:F4}  acc {m.Accuracy:F3}  margin {m.Margin,8:F4}  grad norm {m.GradNorm,8:F3}  lr {m.LearningRate:E2}  {m.TokensPerSecond,8:F0} tok/s"));
        if (spike)
            Say(Invariant($"step {m.Step,6}  grad norm spike: {m.GradNorm:G4} vs a running average of {average:G4} (logged; training continues)"));
    }

    public void OnEval(long step, EvaluationReport report)
    {
        metrics?.Eval(step, report);
        var text = new StringWriter();
        text.WriteLine($"evaluation at step {step}:");
        ReportOutput.WriteText(text, report);
        Say(text.ToString().TrimEnd('\r', '\n'));
    }

    /// <summary>What the live bar shows beside it after step <paramref name="m"/> of <paramref name="total"/> (the ETA is the bar's own column).</summary>
    public static string LiveDescription(StepMetrics m, long total) =>
        Invariant($"step {m.Step}/{total}  loss {m.Loss:F4}  acc {m.Accuracy:F3}  lr {m.LearningRate:E2}  {m.TokensPerSecond:F0} tok/s");

    public void Dispose() => metrics?.Dispose();

    private void Say(string text)
    {
        if (_bar is not null) _bar.WriteLine(text);
        else log.WriteLine(text);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
