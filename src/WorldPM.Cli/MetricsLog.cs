using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Evaluation;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// The --metrics JSONL of <c>worldpm train</c>, one object per line, flushed as written:
/// <c>{"type":"step","step","loss","accuracy","margin","grad_norm","grad_norm_spike","lr","tokens","tokens_per_s","seconds","host_waits"}</c>
/// per optimizer step (host_waits: the step's waits for the device, null on the cpu backend) and <c>{"type":"eval","step","overall","subsets","length_bias"}</c> per evaluation.
/// Non-finite numbers are written as null. A resumed run keeps the lines up to the step it resumes from
/// and drops the rest: a killed run logged steps past its last checkpoint, and the resumed run does those
/// steps again, so keeping them would list them twice.
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>
    /// Opens <paramref name="path"/>: a new file, or for a run resumed at <paramref name="resumedAtStep"/> the
    /// existing one cut back to that step (a line torn by the kill is dropped too).
    /// </summary>
    public MetricsLog(string path, long? resumedAtStep)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        if (resumedAtStep is long step && File.Exists(path))
            AtomicFile.WriteAllText(path, string.Concat(File.ReadLines(path).Where(l => IsUpTo(l, step)).Select(l => l + "\n")));
        _writer = new StreamWriter(path, append: resumedAtStep is not null, new UTF8Encoding(false)) { AutoFlush = true };
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
        ["host_waits"] = m.HostWaits,
    });

    public void Eval(long step, EvaluationReport report) =>
        Write(ReportOutput.ToJson(report, new JsonObject { ["type"] = "eval", ["step"] = step }));

    private void Write(JsonObject line) => _writer.WriteLine(line.ToJsonString());

    /// <summary>Whether <paramref name="line"/> is a whole metrics object of step <paramref name="step"/> or earlier.</summary>
    private static bool IsUpTo(string line, long step)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("step", out JsonElement s) && s.TryGetInt64(out long n) && n <= step;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public void Dispose() => _writer.Dispose();
}
