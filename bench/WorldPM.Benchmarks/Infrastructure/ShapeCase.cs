namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// The shape parameter of a benchmark: its dimensions, in the order the op family documents them, and whether it
/// is the family's small shape (the only one the emulator runs). The table shows <see cref="Label"/>.
/// </summary>
public sealed class ShapeCase
{
    private readonly long[] dims;

    private ShapeCase(bool isSmall, string label, long[] dims)
    {
        IsSmall = isSmall;
        Label = label;
        this.dims = dims;
    }

    /// <summary>True for the small shape (a smoke-sized problem, and the emulator's only one).</summary>
    public bool IsSmall { get; }

    /// <summary>The dimensions by name, e.g. "B4 T512 C512".</summary>
    public string Label { get; }

    /// <summary>The i-th dimension.</summary>
    public long this[int i] => dims[i];

    /// <summary>The small shape of a family, e.g. <c>Small("N", 4096)</c> or <c>Small("M K N", 64, 64, 64)</c>.</summary>
    public static ShapeCase Small(string names, params long[] dims) => new(true, LabelOf(names, dims), dims);

    /// <summary>A shape of the size the reference model and the <c>worldpm bench</c> workloads use.</summary>
    public static ShapeCase Realistic(string names, params long[] dims) => new(false, LabelOf(names, dims), dims);

    /// <inheritdoc/>
    public override string ToString() => Label;

    private static string LabelOf(string names, long[] dims)
    {
        string[] parts = names.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != dims.Length)
            throw new ArgumentException($"{parts.Length} names ({names}) for {dims.Length} dimensions", nameof(names));
        return string.Join(' ', parts.Zip(dims, (name, dim) => name + dim));
    }
}
