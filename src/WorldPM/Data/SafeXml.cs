using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// How data readers open XML: document type declarations are refused outright, since a DTD is how entity-expansion
/// bombs and external-entity reads get in, and no StackExchange dump carries one. <see cref="Reason"/> turns the
/// reader's refusal into a message that says so.
/// </summary>
internal static class SafeXml
{
    /// <summary>The file's XML; bytes that are not in its encoding stop the reader with their line, unless
    /// <paramref name="lenientUtf8"/> reads them as U+FFFD (<see cref="DataLoadOptions.LenientUtf8"/>).</summary>
    public static XmlReader Open(DataSource source, bool lenientUtf8) =>
        lenientUtf8 ? XmlReader.Create(source.OpenText(), Settings) : XmlReader.Create(source.OpenRead(), Settings);

    private static XmlReaderSettings Settings => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreWhitespace = true,
        CloseInput = true,
    };

    /// <summary>Whether the reader stopped at a document type declaration (its only refusal that mentions a DTD).</summary>
    public static bool IsDtdRefusal(XmlException e) => e.Message.Contains("DTD", StringComparison.Ordinal);

    /// <summary>Why the XML could not be read, in the data loader's words.</summary>
    public static string Reason(XmlException e) =>
        IsDtdRefusal(e)
            ? "the file declares a document type (<!DOCTYPE ...>); DTDs are refused, as their entity declarations can " +
              "expand without bound or read other files"
            : $"invalid XML: {e.Message}" +
              (e.Message.Contains("encoding", StringComparison.OrdinalIgnoreCase) ? " (--lenient-utf8 reads such bytes as U+FFFD)" : "");
}
