namespace WorldPM.Model;

/// <summary>A parameter to create: its Hugging Face name, kind and shape.</summary>
internal sealed record ParameterSpec(string Name, ParameterKind Kind, params long[] Shape)
{
    /// <summary>The element count.</summary>
    public long Count => Shape.Aggregate(1L, (count, dim) => checked(count * dim));
}
