using System.Text;
using System.Text.Json.Nodes;
using WorldPM.Evaluation;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// The --metrics JSONL of <c>worldpm train</c>, one object per line, flushed as written:
/// <c>{"type":"step","step","loss","accuracy","margin","grad_norm","grad_norm_spike","lr","tokens","tokens_per_s","seconds"}</c>
/// per optimizer step and <c>{"type":"eval","step","overall","subsets","length_bias"}</c> per evaluation.
/// Non-finite numbers are written as null.
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>Opens <paramref name="path"/>, appending (a resumed run) or replacing it.</summary>
    public MetricsLog(string path, bool append)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _writer = new StreamWriter(path, append, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public void Step(StepMetrics m, bool gradNormSpike) => Write(new JsonObject
    {
        ["type"] = "step",
        ["step"] = m.Step,
        ["loss"] = ReportOutput.Finite(m.Loss),
        ["accuracy"] = ReportOutput.Finite(m.Accuracy),
        ["margin"] = ReportOutput.Finite(m.Margin),
        ["grad_norm"] = ReportOutput.Finite(m.GradNorm),
        ["grad_norm_spike"] = gradNormSpike,
        ["lr"] = ReportOutput.Finite(m.LearningRate),
        ["tokens"] = m.Tokens,
        ["tokens_per_s"] = ReportOutput.Finite(m.TokensPerSecond),
        ["seconds"] = ReportOutput.Finite(m.Seconds),
    });

    public void Eval(long step, EvaluationReport report) =>
        Write(ReportOutput.ToJson(report, new JsonObject { ["type"] = "eval", ["step"] = step }));

    private void Write(JsonObject line) => _writer.WriteLine(line.ToJsonString());

    public void Dispose() => _writer.Dispose();
}
