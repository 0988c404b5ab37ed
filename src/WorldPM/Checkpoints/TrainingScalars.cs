using System.Globalization;

namespace WorldPM.Checkpoints;

/// <summary>
/// The named scalars of a training state (loss scale, scaler counters, RNG state, data position, ...),
/// typed on the way in and out and kept as invariant-culture strings so they read well in the file's
/// header. Every type round-trips exactly: integers in decimal, doubles in their shortest round-trip
/// form (all bits, -0 included; a NaN comes back as the canonical NaN), bytes in base64, ulong arrays
/// (RNG states) as comma-separated decimals.
/// </summary>
public sealed class TrainingScalars
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    /// <summary>Every scalar as stored.</summary>
    public IReadOnlyDictionary<string, string> Raw => values;

    /// <summary>Whether a scalar of that name is present.</summary>
    public bool Contains(string key) => values.ContainsKey(key);

    /// <summary>Stores a string as is.</summary>
    public void SetString(string key, string value) => values[key] = value;

    /// <summary>Reads a string; throws <see cref="KeyNotFoundException"/> naming the key when absent.</summary>
    public string GetString(string key) =>
        values.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"training state has no scalar \"{key}\"");

    /// <summary>Stores a signed integer.</summary>
    public void SetInt64(string key, long value) => values[key] = value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads a signed integer.</summary>
    public long GetInt64(string key) => Parse(key, s => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));

    /// <summary>Stores an unsigned integer.</summary>
    public void SetUInt64(string key, ulong value) => values[key] = value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads an unsigned integer.</summary>
    public ulong GetUInt64(string key) => Parse(key, s => ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture));

    /// <summary>Stores a double exactly.</summary>
    public void SetDouble(string key, double value) => values[key] = value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reads a double.</summary>
    public double GetDouble(string key) => Parse(key, s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>Stores bytes (e.g. a serialized RNG).</summary>
    public void SetBytes(string key, ReadOnlySpan<byte> value) => values[key] = Convert.ToBase64String(value);

    /// <summary>Reads bytes.</summary>
    public byte[] GetBytes(string key) => Parse(key, Convert.FromBase64String);

    /// <summary>Stores unsigned integers (e.g. the words of an RNG state).</summary>
    public void SetUInt64s(string key, ReadOnlySpan<ulong> value)
    {
        var words = new string[value.Length];
        for (int i = 0; i < words.Length; i++) words[i] = value[i].ToString(CultureInfo.InvariantCulture);
        values[key] = string.Join(",", words);
    }

    /// <summary>Reads unsigned integers.</summary>
    public ulong[] GetUInt64s(string key) => Parse(key, s => s.Length == 0 ? []
        : Array.ConvertAll(s.Split(','), w => ulong.Parse(w, NumberStyles.None, CultureInfo.InvariantCulture)));

    private T Parse<T>(string key, Func<string, T> parse)
    {
        string text = GetString(key);
        try
        {
            return parse(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"training state scalar \"{key}\" is \"{text}\", not a {typeof(T).Name}", e);
        }
        catch (OverflowException e)
        {
            throw new FormatException($"training state scalar \"{key}\" is \"{text}\", out of range for {typeof(T).Name}", e);
        }
    }
}
