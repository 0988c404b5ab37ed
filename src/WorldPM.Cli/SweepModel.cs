using System.Globalization;
using WorldPM.Model;

namespace WorldPM.Cli;

/// <summary>
/// One model size of a sweep: a Qwen2-style model of <paramref name="Hidden"/> width and <paramref name="Layers"/>
/// layers, everything else derived from the width so that one number per axis names a size: a head per 16 channels
/// (grouped two queries per key/value head when the count is even), an MLP three times the width, a preference head as
/// wide as the model.
/// </summary>
internal sealed record SweepModel(int Hidden, int Layers)
{
    /// <summary>The channels per attention head.</summary>
    public const int HeadWidth = 16;

    /// <summary>"d32-l2": the run-directory and config-file name of this size.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"d{Hidden}-l{Layers}");

    /// <summary>The config over a vocabulary of <paramref name="vocabSize"/> tokens, sequences up to <paramref name="positions"/>.</summary>
    public ModelConfig Config(int vocabSize, int positions)
    {
        int heads = Hidden / HeadWidth;
        return new ModelConfig
        {
            VocabSize = vocabSize,
            HiddenSize = Hidden,
            NumHiddenLayers = Layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = heads % 2 == 0 ? heads / 2 : heads,
            IntermediateSize = 3 * Hidden,
            HeadHiddenSize = Hidden,
            MaxPositionEmbeddings = positions,
            RopeTheta = 10000,
        };
    }

    /// <summary>"32x2" (HIDDENxLAYERS) as a size, or null with the reason in <paramref name="error"/>.</summary>
    public static SweepModel? TryParse(string text, out string? error)
    {
        error = null;
        string[] parts = text.Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int hidden)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int layers))
        {
            if (hidden >= HeadWidth && hidden % HeadWidth == 0 && layers >= 1) return new SweepModel(hidden, layers);
            error = $"'{text}': the width must be a positive multiple of {HeadWidth} and the layers at least 1";
            return null;
        }
        error = $"'{text}' is not HIDDENxLAYERS (e.g. 32x2)";
        return null;
    }
}
