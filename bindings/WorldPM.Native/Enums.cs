namespace WorldPM.Native;

// These enums mirror the C enums of worldpm.h value for value (they cross the ABI as int).

/// <summary>Where a context runs its ops.</summary>
public enum Backend
{
    /// <summary>CUDA when a device is visible, else CPU.</summary>
    Auto = 0,
    /// <summary>Threads and SIMD on the host CPU.</summary>
    Cpu = 1,
    /// <summary>An NVIDIA GPU.</summary>
    Cuda = 2,
    /// <summary>The CUDA kernel sources run on the CPU (slow; for checking kernels without a GPU).</summary>
    Emu = 3,
}

/// <summary>Element type of a device buffer.</summary>
public enum DType
{
    /// <summary>IEEE binary32 (<see cref="float"/>).</summary>
    F32 = 0,
    /// <summary>IEEE binary16 (<see cref="System.Half"/>).</summary>
    F16 = 1,
    /// <summary>bfloat16 (<see cref="BFloat16"/>).</summary>
    BF16 = 2,
    /// <summary>32-bit signed integer (<see cref="int"/>): token ids, lengths, positions.</summary>
    I32 = 3,
}

/// <summary>Which GELU formula an op uses.</summary>
public enum GeluKind
{
    /// <summary>0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    Tanh = 0,
    /// <summary>0.5 x (1 + erf(x / sqrt(2))).</summary>
    Exact = 1,
}

/// <summary>The activation between the preference head's two linear layers (<c>wpm_head_activation</c>).</summary>
public enum PreferenceHeadActivation
{
    /// <summary>GELU, tanh form (<see cref="GeluKind.Tanh"/>).</summary>
    GeluTanh = 0,
    /// <summary>GELU, exact erf form (<see cref="GeluKind.Exact"/>).</summary>
    GeluExact = 1,
    /// <summary>max(x, 0).</summary>
    Relu = 2,
}

/// <summary>Where the padding of a sequence shorter than T sits.</summary>
public enum Padding
{
    /// <summary>The valid tokens of a sequence of length L are 0 .. L-1.</summary>
    Right = 0,
    /// <summary>The valid tokens are T-L .. T-1.</summary>
    Left = 1,
}

/// <summary>The status every native call returns (<c>wpm_status</c>).</summary>
public enum WorldPMStatus
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A null pointer, bad size, bad enum value or mismatched shapes.</summary>
    InvalidArgument = 1,
    /// <summary>A dtype the op does not support, or buffers whose dtypes disagree.</summary>
    DType = 2,
    /// <summary>Host or device memory ran out.</summary>
    OutOfMemory = 3,
    /// <summary>The backend is not built into this library, or has no device.</summary>
    BackendUnavailable = 4,
    /// <summary>A valid request that this backend does not implement.</summary>
    Unsupported = 5,
    /// <summary>A buffer that belongs to another context.</summary>
    WrongContext = 6,
    /// <summary>A bug in the library.</summary>
    Internal = 7,
    /// <summary>A collective failed: a peer rank died, stopped answering or called a different collective.</summary>
    Comm = 8,
}

/// <summary>How a collective combines the ranks' values.</summary>
public enum ReduceOp
{
    /// <summary>The sum over ranks.</summary>
    Sum = 0,
    /// <summary>The sum divided by the rank count.</summary>
    Mean = 1,
}
