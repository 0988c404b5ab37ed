using WorldPM.Data;
using WorldPM.Evaluation;
using WorldPM.Losses;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// The loss <c>worldpm eval</c> reports in its loss column, and where it came from: --loss (with --label-smoothing) when
/// given, else the objective recorded with the checkpoint (<see cref="TrainingRun.RecordedObjective"/>), else
/// Bradley-Terry. The margins come from --margin-from, else (with the recorded loss) from the recorded field.
/// Bradley-Terry keeps the evaluator's float64 column, as before losses were pluggable.
/// </summary>
internal sealed record EvalLossColumn(IPreferenceLoss Loss, string LossOrigin, string? MarginFrom, string MarginOrigin)
{
    private const string Recorded = "recorded with the checkpoint";

    /// <summary>Whether the column is the float64 Bradley-Terry (no ILGPU loss needed).</summary>
    public bool IsBradleyTerry => Loss.Name == PreferenceLosses.BradleyTerryName;

    /// <summary>The loss column for the options <paramref name="given"/> and the checkpoint's <paramref name="recorded"/>
    /// objective (null: none); a combination that does not fit is a one-line usage error, as in <c>train</c>.</summary>
    public static EvalLossColumn Choose(LossChoice given, RunObjective? recorded)
    {
        // The recorded objective counts only while --loss does not replace it: a loss named on the command line comes
        // with the command line's smoothing and margins, not with fields recorded for another loss.
        RunObjective? kept = given.Loss is null ? recorded : null;
        IPreferenceLoss loss;
        string lossOrigin;
        if (kept is not null && given.LabelSmoothing is null)
        {
            loss = Rebuild(kept);
            lossOrigin = Recorded;
            LossOptions.RequireMarginsApply(loss, given.MarginFrom);
        }
        else
        {
            loss = LossOptions.Create(given.Loss ?? kept?.Loss ?? PreferenceLosses.BradleyTerryName, given.LabelSmoothing, given.MarginFrom);
            lossOrigin = given.Loss is not null ? "--loss" : kept is not null ? $"{Recorded}, --label-smoothing" : "the default";
        }
        if (given.MarginFrom is not null) return new(loss, lossOrigin, given.MarginFrom, "--margin-from");
        string? recordedField = kept is { MarginFrom.Length: > 0 } && loss.UsesMargins ? kept.MarginFrom : null;
        return new(loss, lossOrigin, recordedField, recordedField is null ? "" : Recorded);
    }

    /// <summary>The data options with this column's margin field.</summary>
    public DataLoadOptions Loading(DataLoadOptions options) => options with { MarginFrom = MarginFrom };

    /// <summary>Refuses evaluation data without the margin field, naming the file and where the field was named.</summary>
    public void RequireMargins(IReadOnlyList<PreferencePair> data)
    {
        if (MarginFrom is not null)
            LossOptions.RequireMargins(MarginFrom, data, "evaluation", MarginOrigin == Recorded ? $" ({Recorded})" : "");
    }

    /// <summary>The same for data prepared on the fly: <paramref name="without"/> of <paramref name="count"/> pairs have no
    /// margin, the first read at <paramref name="first"/>.</summary>
    public void RequireMargins(long without, long count, string? first)
    {
        if (MarginFrom is not null)
            LossOptions.RequireMargins(MarginFrom, without, count, first, "evaluation", MarginOrigin == Recorded ? $" ({Recorded})" : "");
    }

    /// <summary>The report of <paramref name="pairs"/> with this loss column: the float64 Bradley-Terry, or the loss on
    /// the CPU's ILGPU accelerator (over the pairs' margins when they carry them).</summary>
    public EvaluationReport Report(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas)
    {
        if (IsBradleyTerry) return Evaluator.Report(pairs, deltas);
        using var accelerator = new LossAccelerator();
        return Evaluator.Report(pairs, deltas, Loss, accelerator);
    }

    /// <summary>The text line naming the column's loss, e.g. "loss column: hinge (recorded with the checkpoint)".</summary>
    public string Describe() =>
        $"loss column: {Loss.Name}" + (Loss.Settings.Length > 0 ? $" {Loss.Settings}" : "") + $" ({LossOrigin})" +
        (MarginFrom is null ? "" : $", margins from {MarginFrom} ({MarginOrigin})");

    /// <summary>The text report's name for the loss ("BT" for Bradley-Terry, as before losses were pluggable).</summary>
    public string Label => IsBradleyTerry ? "BT" : Loss.Name;

    private static IPreferenceLoss Rebuild(RunObjective recorded)
    {
        try
        {
            return PreferenceLosses.Recreate(recorded.Loss, recorded.Settings);
        }
        catch (ArgumentException e)
        {
            // A loss from outside the built-in ones (a library user's IPreferenceLoss) cannot be rebuilt by name.
            throw new UsageException($"the checkpoint was trained with a loss eval cannot rebuild ({e.Message}); pass --loss to choose the loss column");
        }
    }
}
