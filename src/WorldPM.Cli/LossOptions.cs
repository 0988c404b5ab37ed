using System.CommandLine;
using WorldPM.Data;
using WorldPM.Losses;

namespace WorldPM.Cli;

/// <summary>What --loss, --margin-from and --label-smoothing say (null where not given).</summary>
internal sealed record LossChoice(string? Loss, string? MarginFrom, double? LabelSmoothing);

/// <summary>
/// The loss options of the commands that compute a preference loss (<c>train</c>, <c>eval</c>), and the checks of how
/// they combine: one definition, so both commands accept and refuse the same values with the same one-line errors.
/// Built once per command (an option belongs to one command).
/// </summary>
internal sealed class LossOptions
{
    private readonly Option<string?> _loss;
    private readonly Option<string?> _marginFrom;
    private readonly Option<double?> _labelSmoothing;

    /// <param name="pairs">Whose pairs the loss is over ("training", "evaluation"): every one must carry the margin field.</param>
    /// <param name="defaultLoss">The --loss default, or null where its absence means something (eval: the recorded loss).</param>
    /// <param name="absent">What leaving out --loss, --margin-from or --label-smoothing does, when there is no plain default.</param>
    public LossOptions(string pairs, string? defaultLoss, string absent = "")
    {
        _loss = new Option<string?>("--loss")
        {
            Description = $"The objective: {PreferenceLosses.BradleyTerryName} (Bradley-Terry, native fused op), {PreferenceLosses.MarginBradleyTerryName} (-log sigmoid(gap - margin)), {PreferenceLosses.SmoothedBradleyTerryName} (label smoothing, see --label-smoothing) or {PreferenceLosses.HingeName} (max(0, margin - gap), margin 1 without --margin-from); every one weighted per pair. The others run as ILGPU kernels." + absent,
            HelpName = "NAME",
        }.Must(name => PreferenceLosses.Names.Contains(name), $"one of {string.Join(", ", PreferenceLosses.Names)}");
        if (defaultLoss is not null) _loss.DefaultValueFactory = _ => defaultLoss;
        _marginFrom = new Option<string?>("--margin-from")
        {
            Description = $"With --loss {PreferenceLosses.MarginBradleyTerryName} or {PreferenceLosses.HingeName}: the graded field each pair's margin comes from: a number of a JSONL record, a HelpSteer score attribute (chosen minus rejected), {DataLoadOptions.VotesMarginField} (StackExchange vote gap) or {DataLoadOptions.ConfidenceMarginField} (summarize-from-feedback, |confidence - 5| / 4). Every {pairs} pair must carry it." + absent,
            HelpName = "FIELD",
        };
        _labelSmoothing = new Option<double?>("--label-smoothing")
        {
            Description = $"With --loss {PreferenceLosses.SmoothedBradleyTerryName}: the chance that a label is wrong, in [0, 0.5) (default 0).",
            HelpName = "E",
        }.Must(v => v is double e && e >= 0 && e < 0.5, "in [0, 0.5)");
    }

    public IEnumerable<Option> All => [_loss, _marginFrom, _labelSmoothing];

    public LossChoice Read(ParseResult r) => new(r.GetValue(_loss), r.GetValue(_marginFrom), r.GetValue(_labelSmoothing));

    /// <summary>The loss <paramref name="name"/> with <paramref name="labelSmoothing"/>, refused (one-line usage errors
    /// naming the option) where the smoothing or <paramref name="marginFrom"/> does not apply to it.</summary>
    public static IPreferenceLoss Create(string name, double? labelSmoothing, string? marginFrom)
    {
        if (labelSmoothing is not null && name != PreferenceLosses.SmoothedBradleyTerryName)
            throw new UsageException($"--label-smoothing applies to --loss {PreferenceLosses.SmoothedBradleyTerryName} only, not --loss {name}");
        IPreferenceLoss loss = PreferenceLosses.Create(name, labelSmoothing);
        RequireMarginsApply(loss, marginFrom);
        return loss;
    }

    /// <summary>Refuses --margin-from for a loss that ignores margins.</summary>
    public static void RequireMarginsApply(IPreferenceLoss loss, string? marginFrom)
    {
        if (marginFrom is not null && !loss.UsesMargins)
            throw new UsageException($"--margin-from applies to the margin losses ({PreferenceLosses.MarginBradleyTerryName}, " +
                $"{PreferenceLosses.HingeName}), not --loss {loss.Name}");
    }

    /// <summary>Refuses <paramref name="data"/> (the <paramref name="pairs"/> pairs) unless every pair carries the margin
    /// field <paramref name="field"/> (<paramref name="origin"/>, e.g. " (recorded with the checkpoint)", says where the
    /// field was named), naming the file of the first pair without it.</summary>
    public static void RequireMargins(string field, IReadOnlyList<PreferencePair> data, string pairs, string origin = "")
    {
        if (data.FirstOrDefault(pair => pair.Margin is null) is { } without)
            RequireMargins(field, data.Count(pair => pair.Margin is null), data.Count, without.Source, pairs, origin);
    }

    /// <summary>The same refusal for pairs counted elsewhere (a token store prepared on the fly): <paramref name="without"/>
    /// of <paramref name="count"/> carry no margin, the first read at <paramref name="first"/>.</summary>
    public static void RequireMargins(string field, long without, long count, string? first, string pairs, string origin = "")
    {
        if (without > 0)
            throw new UsageException($"--margin-from {field}{origin}: {without} of {count} {pairs} " +
                $"pairs carry no '{field}' (the first from {first}); name a graded field of this data");
    }
}
