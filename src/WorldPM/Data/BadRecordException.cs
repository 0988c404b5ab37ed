namespace WorldPM.Data;

/// <summary>Thrown inside a reader when one record is malformed; the reader reports it and moves on.</summary>
internal sealed class BadRecordException(string reason) : Exception(reason);
