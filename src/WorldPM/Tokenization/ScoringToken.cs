using System.Text.Json.Serialization;

namespace WorldPM.Tokenization;

/// <summary>
/// The token whose hidden state the preference head reads. Either way it is the LAST token of every
/// sequence the <see cref="ChatTemplate"/> produces, so last-token pooling needs only the length.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScoringToken>))]
public enum ScoringToken
{
    /// <summary>
    /// <c>&lt;|endoftext|&gt;</c> appended after the template's final <c>&lt;|im_end|&gt;\n</c>:
    /// the sequence ends <c>…{response}&lt;|im_end|&gt;\n&lt;|endoftext|&gt;</c>. The default.
    /// </summary>
    [JsonStringEnumMemberName("endoftext")]
    EndOfText,

    /// <summary>
    /// The assistant turn's own closing <c>&lt;|im_end|&gt;</c>: the template's trailing newline is
    /// left out so that the sequence ends <c>…{response}&lt;|im_end|&gt;</c> and nothing follows.
    /// </summary>
    [JsonStringEnumMemberName("im_end")]
    ImEnd,
}
