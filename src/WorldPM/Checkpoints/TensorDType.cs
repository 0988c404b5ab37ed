namespace WorldPM.Checkpoints;

/// <summary>Element types of the safetensors format (the names in the header are those of <see cref="TensorDTypes.SafeTensorsName"/>).</summary>
public enum TensorDType
{
    /// <summary>Boolean, one byte.</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float, 5 exponent bits and 2 mantissa bits.</summary>
    F8E5M2,
    /// <summary>8-bit float, 4 exponent bits and 3 mantissa bits.</summary>
    F8E4M3,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16: the upper half of an IEEE single.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Sizes and header names of <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    private static readonly string[] Names =
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"];

    /// <summary>Bytes per element.</summary>
    public static int ByteSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.Bool or TensorDType.U8 or TensorDType.I8 or TensorDType.F8E5M2 or TensorDType.F8E4M3 => 1,
        TensorDType.I16 or TensorDType.U16 or TensorDType.F16 or TensorDType.BF16 => 2,
        TensorDType.I32 or TensorDType.U32 or TensorDType.F32 => 4,
        TensorDType.F64 or TensorDType.I64 or TensorDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>Whether loading converts this dtype to a float, half or bfloat16 buffer: F16, BF16, F32 and F64 (the
    /// 8-bit floats need scales that the format does not carry).</summary>
    public static bool IsConvertibleFloat(this TensorDType dtype) =>
        dtype is TensorDType.F16 or TensorDType.BF16 or TensorDType.F32 or TensorDType.F64;

    /// <summary>The dtype's name in a safetensors header ("F32", "BF16", ...).</summary>
    public static string SafeTensorsName(this TensorDType dtype) =>
        (uint)dtype < (uint)Names.Length ? Names[(int)dtype]
            : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype");

    /// <summary>Parses a header dtype name (exact, case-sensitive, as the format requires).</summary>
    public static bool TryParse(string name, out TensorDType dtype)
    {
        int index = Array.IndexOf(Names, name);
        dtype = (TensorDType)Math.Max(index, 0);
        return index >= 0;
    }

    /// <summary>Every dtype name the format defines, for error messages.</summary>
    public static IReadOnlyList<string> AllNames => Names;
}
