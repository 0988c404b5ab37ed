using System.Globalization;

namespace WorldPM.Losses;

/// <summary>
/// The built-in preference losses by name (<c>worldpm train --loss NAME</c>), each with per-pair weights:
/// <list type="bullet">
/// <item><c>bt</c>: Bradley-Terry, -log sigmoid(gap). The default; training runs it as the native fused op
/// (<see cref="RunsNatively"/>), bitwise as before the losses were pluggable.</item>
/// <item><c>bt-margin</c>: -log sigmoid(gap - m), m the pair's margin from the data (0 without one).</item>
/// <item><c>bt-smooth</c>: Bradley-Terry with label smoothing epsilon in [0, 0.5).</item>
/// <item><c>hinge</c>: max(0, m - gap), m the pair's margin from the data, or 1 when the data carries none.</item>
/// </list>
/// </summary>
public static class PreferenceLosses
{
    public const string BradleyTerryName = "bt";
    public const string MarginBradleyTerryName = "bt-margin";
    public const string SmoothedBradleyTerryName = "bt-smooth";
    public const string HingeName = "hinge";

    /// <summary>The margin of <c>hinge</c> when the data gives none: the usual ranking-loss margin.</summary>
    public const float HingeDefaultMargin = 1f;

    /// <summary>How bt-smooth's <see cref="IPreferenceLoss.Settings"/> start: the smoothing follows, in round-trip form.</summary>
    private const string LabelSmoothingSetting = "label_smoothing=";

    public static IReadOnlyList<string> Names { get; } =
        [BradleyTerryName, MarginBradleyTerryName, SmoothedBradleyTerryName, HingeName];

    /// <summary>The default loss. The trainer runs this instance as the native fused Bradley-Terry; its kernel form is
    /// what evaluation and other callers of <see cref="IPreferenceLoss.Compute"/> get.</summary>
    public static IPreferenceLoss BradleyTerry { get; } = new KernelLoss<BradleyTerryTerm>(BradleyTerryName, default);

    /// <summary>Bradley-Terry on the ILGPU kernel even in training (the same loss as <see cref="BradleyTerry"/>).</summary>
    public static KernelLoss<BradleyTerryTerm> BradleyTerryKernel() => new(BradleyTerryName, default);

    public static KernelLoss<BradleyTerryTerm> MarginBradleyTerry() => new(MarginBradleyTerryName, default) { UsesMargins = true };

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 0.5).</exception>
    public static KernelLoss<SmoothedBradleyTerryTerm> SmoothedBradleyTerry(double labelSmoothing)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing,
                $"label smoothing is {labelSmoothing.ToString(CultureInfo.InvariantCulture)}; it must be in [0, 0.5)");
        return new(SmoothedBradleyTerryName, new SmoothedBradleyTerryTerm((float)labelSmoothing))
        {
            Settings = LabelSmoothingSetting + ((float)labelSmoothing).ToString("R", CultureInfo.InvariantCulture),
        };
    }

    public static KernelLoss<HingeTerm> Hinge() => new(HingeName, default) { UsesMargins = true, DefaultMargin = HingeDefaultMargin };

    /// <summary>The built-in loss named <paramref name="name"/>; <paramref name="labelSmoothing"/> is for bt-smooth
    /// only (null elsewhere).</summary>
    /// <exception cref="ArgumentException">An unknown name (naming the known ones), or label smoothing given to a loss
    /// other than bt-smooth, or out of [0, 0.5).</exception>
    public static IPreferenceLoss Create(string name, double? labelSmoothing = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (labelSmoothing is not null && name != SmoothedBradleyTerryName)
            throw new ArgumentException($"label smoothing applies to the loss {SmoothedBradleyTerryName} only, not {name}",
                nameof(labelSmoothing));
        return name switch
        {
            BradleyTerryName => BradleyTerry,
            MarginBradleyTerryName => MarginBradleyTerry(),
            SmoothedBradleyTerryName => SmoothedBradleyTerry(labelSmoothing ?? 0),
            HingeName => Hinge(),
            _ => throw new ArgumentException($"unknown loss '{name}'; the losses are {string.Join(", ", Names)}", nameof(name)),
        };
    }

    /// <summary>The built-in loss a run recorded as <paramref name="name"/> and <paramref name="settings"/> (its
    /// <see cref="IPreferenceLoss.Name"/> and <see cref="IPreferenceLoss.Settings"/>): the inverse of how they are
    /// written, so a checkpoint's loss can be rebuilt (<c>worldpm eval</c>'s loss column).</summary>
    /// <exception cref="ArgumentException">A name that is not built in, or settings this loss does not write.</exception>
    public static IPreferenceLoss Recreate(string name, string settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Length == 0) return Create(name);
        if (name == SmoothedBradleyTerryName && settings.StartsWith(LabelSmoothingSetting, StringComparison.Ordinal)
            && float.TryParse(settings.AsSpan(LabelSmoothingSetting.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out float e))
            return Create(name, e);
        throw new ArgumentException($"the loss {name} does not record the settings '{settings}'", nameof(settings));
    }

    /// <summary>Whether training runs <paramref name="loss"/> as the native fused Bradley-Terry op rather than on ILGPU.</summary>
    public static bool RunsNatively(IPreferenceLoss loss) => ReferenceEquals(loss, BradleyTerry);
}
