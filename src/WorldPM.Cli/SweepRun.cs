using System.Text.Json.Nodes;
using WorldPM.Checkpoints;

namespace WorldPM.Cli;

/// <summary>
/// One run of a sweep: a model size trained for a number of steps in its own <c>worldpm train</c> run directory
/// (checkpoints, <c>metrics.jsonl</c>, <c>train.log</c>). It is finished when its latest committed checkpoint is at its
/// last step: the final evaluation is logged before that checkpoint is written, so a finished run's metrics are whole.
/// </summary>
internal sealed record SweepRun(SweepModel Model, long Steps, string Directory)
{
    public const string MetricsFileName = "metrics.jsonl";

    public const string LogFileName = "train.log";

    /// <summary>The run of <paramref name="model"/> for <paramref name="steps"/> steps in sweep directory <paramref name="sweep"/>: runs/NAME.</summary>
    public static SweepRun In(string sweep, SweepModel model, long steps) =>
        new(model, steps, Path.Combine(sweep, "runs", $"{model.Name}-s{steps}"));

    /// <summary>"d32-l2-s120": the size and the step count.</summary>
    public string Name => Path.GetFileName(Directory);

    public string MetricsPath => Path.Combine(Directory, MetricsFileName);

    /// <summary>The step of the latest committed checkpoint, or null when there is none yet.</summary>
    public long? LatestStep => System.IO.Directory.Exists(Directory) ? new CheckpointStore(Directory).LatestStep() : null;

    public bool Finished => LatestStep == Steps && File.Exists(MetricsPath);

    /// <summary>The held-out evaluations of the run's metrics, each with the tokens trained on up to its step.</summary>
    public IReadOnlyList<SweepPoint> ReadCurve()
    {
        long tokens = 0;
        var points = new List<SweepPoint>();
        foreach ((int line, JsonObject o) in JsonLines.Read(new FileInfo(MetricsPath)))
        {
            long step = o["step"] is JsonValue s && s.TryGetValue(out long n) ? n
                : throw new InvalidDataException($"{MetricsPath}:{line}: no \"step\"");
            if ((string?)o["type"] == "eval")
                points.Add(new SweepPoint(step, tokens, Number(o["overall"], "loss"), Number(o["overall"], "accuracy")));
            else if (o["tokens"] is JsonValue t && t.TryGetValue(out long stepTokens))
                tokens += stepTokens;
        }
        if (points.Count == 0 || points[^1].Step != Steps)
            throw new InvalidDataException($"{MetricsPath} has no held-out evaluation at the run's last step {Steps}");
        return points;
    }

    private static double Number(JsonNode? node, string key) =>
        node is JsonObject o && o[key] is JsonValue v && v.TryGetValue(out double d) ? d : double.NaN;
}
