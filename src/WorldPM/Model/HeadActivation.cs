using System.Text.Json.Serialization;

namespace WorldPM.Model;

/// <summary>
/// The activation between the two linear layers of the preference head. JSON names are Hugging Face's
/// <c>ACT2FN</c> keys.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<HeadActivation>))]
public enum HeadActivation
{
    /// <summary>GELU, tanh approximation (the seed design's head).</summary>
    [JsonStringEnumMemberName("gelu_pytorch_tanh")]
    GeluTanh,

    /// <summary>GELU, exact erf form.</summary>
    [JsonStringEnumMemberName("gelu")]
    GeluExact,

    /// <summary>ReLU (the released WorldPM-72B head, with head_hidden_size = hidden_size).</summary>
    [JsonStringEnumMemberName("relu")]
    Relu,
}
