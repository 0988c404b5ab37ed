using System.Runtime.InteropServices;
using System.Text;

namespace WorldPM.Native.Interop;

/// <summary>Helpers every wrapper uses around <see cref="NativeMethods"/>.</summary>
internal static unsafe class Native
{
    /// <summary>
    /// The one status check: any status but OK becomes the exception of its type, carrying the
    /// thread-local message and argument name of the failed call. Call it right after the native call,
    /// on the same thread.
    /// </summary>
    internal static void Check(WorldPMStatus status)
    {
        if (status == WorldPMStatus.Ok) return;
        string message = Utf8(NativeMethods.wpm_last_error());
        if (message.Length == 0) message = $"{Utf8(NativeMethods.wpm_status_name(status))} ({status})";
        throw WorldPMException.FromStatus(status, message, Utf8(NativeMethods.wpm_last_error_argument()));
    }

    /// <summary>The native pointer of a leased object (see <see cref="HandleLease"/>), or NULL for null.</summary>
    internal static nint Ptr(INativeObject? o) => o?.Handle.DangerousGetHandle() ?? 0;

    /// <summary>A NUL-terminated UTF-8 string owned by the library, copied; "" for NULL.</summary>
    internal static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? "";

    /// <summary>A UTF-8 string in a fixed char array of <paramref name="capacity"/> bytes, up to its first NUL.</summary>
    internal static string Utf8(byte* text, int capacity)
    {
        var bytes = new ReadOnlySpan<byte>(text, capacity);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
