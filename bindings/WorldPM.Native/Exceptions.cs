namespace WorldPM.Native;

/// <summary>
/// A native call failed. <see cref="Exception.Message"/> is the library's own message
/// (<c>wpm_last_error</c>), which names the function, the argument and the value that was wrong;
/// <see cref="ArgumentName"/> is that argument's name (<c>wpm_last_error_argument</c>).
/// </summary>
public class WorldPMException : Exception
{
    /// <summary>Creates an exception for a failed call.</summary>
    public WorldPMException(WorldPMStatus status, string message) : base(message) => Status = status;

    /// <summary>Creates an exception that is not tied to one native status.</summary>
    public WorldPMException(string message) : this(WorldPMStatus.Internal, message) { }

    /// <summary>Creates an exception that is not tied to one native status.</summary>
    public WorldPMException(string message, Exception inner) : base(message, inner) => Status = WorldPMStatus.Internal;

    /// <summary>What the native call returned.</summary>
    public WorldPMStatus Status { get; }

    /// <summary>
    /// The argument the failed call was about, as worldpm.h spells it (a parameter such as <c>x</c>, or a field of a
    /// parameter struct such as <c>eps</c>), taken from <c>wpm_last_error_argument</c> when the exception was made;
    /// null when the error is about no single argument.
    /// </summary>
    public string? ArgumentName { get; private set; }

    /// <summary>
    /// The exception type that stands for a status, carrying the native message and argument name (null or "" for
    /// none); the one place where that mapping lives.
    /// </summary>
    internal static WorldPMException FromStatus(WorldPMStatus status, string message, string? argumentName)
    {
        WorldPMException e = OfStatus(status, message);
        e.ArgumentName = string.IsNullOrEmpty(argumentName) ? null : argumentName;
        return e;
    }

    private static WorldPMException OfStatus(WorldPMStatus status, string message) => status switch
    {
        WorldPMStatus.InvalidArgument => new WorldPMArgumentException(status, message),
        WorldPMStatus.WrongContext => new WorldPMWrongContextException(message),
        WorldPMStatus.DType => new WorldPMDTypeException(message),
        WorldPMStatus.OutOfMemory => new WorldPMOutOfMemoryException(message),
        WorldPMStatus.BackendUnavailable => new BackendUnavailableException(message),
        WorldPMStatus.Unsupported => new WorldPMUnsupportedException(message),
        WorldPMStatus.Comm => new CommunicationException(message),
        _ => new WorldPMException(status, message),
    };
}

/// <summary>A null pointer, a bad size, a bad enum value, mismatched shapes (<see cref="WorldPMStatus.InvalidArgument"/>).</summary>
public class WorldPMArgumentException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public WorldPMArgumentException(WorldPMStatus status, string message) : base(status, message) { }
}

/// <summary>A buffer that belongs to another context than the call's (<see cref="WorldPMStatus.WrongContext"/>).</summary>
public sealed class WorldPMWrongContextException : WorldPMArgumentException
{
    /// <summary>Creates the exception.</summary>
    public WorldPMWrongContextException(string message) : base(WorldPMStatus.WrongContext, message) { }
}

/// <summary>A dtype the op does not support, or buffers whose dtypes disagree (<see cref="WorldPMStatus.DType"/>).</summary>
public sealed class WorldPMDTypeException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public WorldPMDTypeException(string message) : base(WorldPMStatus.DType, message) { }
}

/// <summary>Host or device memory ran out (<see cref="WorldPMStatus.OutOfMemory"/>).</summary>
public sealed class WorldPMOutOfMemoryException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public WorldPMOutOfMemoryException(string message) : base(WorldPMStatus.OutOfMemory, message) { }
}

/// <summary>The backend is not built into this library or has no device (<see cref="WorldPMStatus.BackendUnavailable"/>).</summary>
public sealed class BackendUnavailableException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public BackendUnavailableException(string message) : base(WorldPMStatus.BackendUnavailable, message) { }
}

/// <summary>A valid request that this backend does not implement (<see cref="WorldPMStatus.Unsupported"/>).</summary>
public sealed class WorldPMUnsupportedException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public WorldPMUnsupportedException(string message) : base(WorldPMStatus.Unsupported, message) { }
}

/// <summary>
/// A collective failed (<see cref="WorldPMStatus.Comm"/>): a peer rank died, stopped answering within the
/// communicator's timeout (the message names it), or entered a different collective. The communicator is
/// broken afterwards; the process should exit non-zero.
/// </summary>
public sealed class CommunicationException : WorldPMException
{
    /// <summary>Creates the exception.</summary>
    public CommunicationException(string message) : base(WorldPMStatus.Comm, message) { }
}
