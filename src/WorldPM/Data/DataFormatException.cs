namespace WorldPM.Data;

/// <summary>A preference-data file that cannot be read as asked: a bad record in strict mode, or an unknown format.</summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(RecordLocation location, string reason)
        : base($"{location}: {reason}")
    {
        Location = location;
        Reason = reason;
    }

    /// <summary>The file and line or record at fault.</summary>
    public RecordLocation Location { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }
}
