namespace WorldPM.Data;

/// <summary>
/// Where a record sits: a file and its 1-based line, its 1-based record number (JSON arrays,
/// Parquet rows), or both. Formats as <c>file:line</c>, <c>file:record N</c> or <c>file:line (record N)</c>.
/// </summary>
public sealed record RecordLocation(string File, int? Line = null, int? Record = null)
{
    public override string ToString() => (Line, Record) switch
    {
        ({ } line, { } record) => $"{File}:{line} (record {record})",
        ({ } line, null) => $"{File}:{line}",
        (null, { } record) => $"{File}:record {record}",
        _ => File,
    };
}
