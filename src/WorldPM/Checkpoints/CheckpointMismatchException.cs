namespace WorldPM.Checkpoints;

/// <summary>
/// A checkpoint does not hold the tensors a model expects. Every problem is listed, in one message and
/// in the three lists, so a wrong config or a half-converted checkpoint is diagnosed in one try.
/// </summary>
public sealed class CheckpointMismatchException : CheckpointFormatException
{
    /// <summary>Creates the exception; at least one list is non-empty.</summary>
    public CheckpointMismatchException(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> mismatched)
        : base(path, Describe(missing, unexpected, mismatched))
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>Expected tensors the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Tensors in the checkpoint that nothing expects.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Tensors present with another shape or dtype, each as "name: expected X, found Y".</summary>
    public IReadOnlyList<string> Mismatched { get; }

    /// <summary>
    /// Compares the checkpoint's <paramref name="present"/> tensors with <paramref name="expected"/> and throws
    /// when anything differs. Tensors for which <paramref name="ignoreUnexpected"/> is true (e.g. an
    /// <c>lm_head.weight</c> a reward model does not use) are not reported.
    /// </summary>
    public static void ThrowIfAny(string path, IEnumerable<TensorInfo> present, IReadOnlyDictionary<string, TensorExpectation> expected,
        Func<string, bool>? ignoreUnexpected = null)
    {
        var found = present.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var missing = expected.Keys.Where(name => !found.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
        var unexpected = found.Keys.Where(name => !expected.ContainsKey(name) && ignoreUnexpected?.Invoke(name) != true)
            .Order(StringComparer.Ordinal).ToList();
        var mismatched = new List<string>();
        foreach (var (name, want) in expected.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!found.TryGetValue(name, out var have)) continue;
            bool shapeOk = have.Shape.AsSpan().SequenceEqual(want.Shape);
            bool dtypeOk = want.DType is null || want.DType == have.DType;
            if (!shapeOk || !dtypeOk)
                mismatched.Add($"{name}: expected {want}, found {have.DType} [{string.Join(", ", have.Shape)}]");
        }
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
            throw new CheckpointMismatchException(path, missing, unexpected, mismatched);
    }

    private static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected: {string.Join(", ", unexpected)}");
        if (mismatched.Count > 0) parts.Add($"{mismatched.Count} with the wrong shape or dtype: {string.Join("; ", mismatched)}");
        return "the checkpoint does not match the model; " + string.Join(". ", parts);
    }
}
