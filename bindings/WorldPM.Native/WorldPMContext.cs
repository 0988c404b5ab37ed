using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// A backend instance (CPU thread pool, or a GPU and its stream) that owns buffers and runs ops.
/// Ops queue work on it; <see cref="Synchronize"/> waits for that work. Dispose it after its buffers
/// (a buffer outliving its context can still be disposed, but not used).
/// </summary>
public sealed unsafe partial class WorldPMContext : IDisposable, INativeObject
{
    private readonly ContextHandle handle;

    private WorldPMContext(ContextHandle handle) => this.handle = handle;

    NativeHandle INativeObject.Handle => handle;

    /// <summary>Creates a context.</summary>
    /// <param name="backend"><see cref="Backend.Auto"/> picks CUDA when a device is visible, else the CPU.</param>
    /// <param name="threads">CPU threads; 0 means WORLDPM_NUM_THREADS, else the machine's core count.</param>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="cudaStream">A <c>cudaStream_t</c> of <paramref name="device"/> to queue every op and copy on (a
    /// framework's current stream), so the library's work orders with the caller's; 0 for a stream of the context's
    /// own. The library never destroys it: it must outlive the context and its buffers. CUDA only.</param>
    /// <exception cref="BackendUnavailableException">The backend is not built or has no device.</exception>
    /// <exception cref="WorldPMUnsupportedException"><paramref name="cudaStream"/> is set on a backend without streams.</exception>
    public static WorldPMContext Create(Backend backend = Backend.Auto, int threads = 0, int device = 0, nint cudaStream = 0)
    {
        var options = new NativeMethods.wpm_context_options
        {
            struct_size = (nuint)sizeof(NativeMethods.wpm_context_options),
            backend = backend,
            num_threads = threads,
            device = device,
            stream = cudaStream,
        };
        nint created;
        Check(NativeMethods.wpm_context_create(&options, &created));
        return new WorldPMContext(new ContextHandle(created));
    }

    /// <summary>The backend this context runs on (never <see cref="Backend.Auto"/>).</summary>
    public Backend Backend
    {
        get
        {
            using var lease = new HandleLease([this]);
            Backend backend;
            Check(NativeMethods.wpm_context_backend(Ptr(this), &backend));
            return backend;
        }
    }

    /// <summary>The CPU threads this context's pool uses.</summary>
    public int NumThreads
    {
        get
        {
            using var lease = new HandleLease([this]);
            int threads;
            Check(NativeMethods.wpm_context_num_threads(Ptr(this), &threads));
            return threads;
        }
    }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => handle.IsClosed;

    /// <summary>Waits for all work queued on this context.</summary>
    public void Synchronize()
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_synchronize(Ptr(this)));
    }

    /// <summary>What this context has done on its device so far; null on the cpu backend, which queues no device work.</summary>
    public DeviceCounters? DeviceCounters
    {
        get
        {
            if (Backend == Backend.Cpu) return null;
            using var lease = new HandleLease([this]);
            var counters = new NativeMethods.wpm_device_counters { struct_size = (nuint)sizeof(NativeMethods.wpm_device_counters) };
            Check(NativeMethods.wpm_context_device_counters(Ptr(this), &counters));
            return new DeviceCounters((long)counters.host_waits, (long)counters.d2h_copies, (long)counters.h2d_copies,
                (long)counters.launches, (long)counters.gemms);
        }
    }

    /// <summary>Allocates a buffer of the given shape (row-major), contents undefined.</summary>
    /// <typeparam name="T">float, <see cref="Half"/>, <see cref="BFloat16"/> or int.</typeparam>
    public DeviceBuffer<T> Allocate<T>(params ReadOnlySpan<long> shape) where T : unmanaged
    {
        DType dtype = DTypes.Of<T>();
        long[] dims = shape.ToArray();
        long count = DeviceBuffer.CountOf(dims);
        using var lease = new HandleLease([this]);
        nint created;
        Check(NativeMethods.wpm_buffer_alloc(Ptr(this), dtype, (nuint)count, &created));
        return new DeviceBuffer<T>(this, new BufferHandle(created), dims);
    }

    /// <summary>Allocates a one-dimensional buffer holding a copy of <paramref name="data"/>.</summary>
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        DeviceBuffer<T> buffer = Allocate<T>(data.Length);
        try
        {
            buffer.CopyFrom(data);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Destroys the native context.</summary>
    public void Dispose() => handle.Dispose();

    // ------------------------------------------------------------------ library-level queries

    /// <summary>The native library's version (major.minor.patch of worldpm.h it was built from).</summary>
    public static Version Version => AbiVersion.Unpack(NativeMethods.wpm_version());

    /// <summary>The native library's version string, e.g. "0.1.0".</summary>
    public static string VersionString => Utf8(NativeMethods.wpm_version_string());

    /// <summary>Where the native library was loaded from (loading it if need be).</summary>
    public static string NativeLibraryPath
    {
        get
        {
            NativeMethods.wpm_version();
            return NativeLibraryResolver.LoadedPath ?? NativeLibraryResolver.FileName;
        }
    }

    /// <summary>The ABI version (major.minor) these bindings were written against.</summary>
    public static Version BindingsVersion => AbiVersion.Managed;

    /// <summary>Whether a backend is built into this library and can run here, and why not.</summary>
    public static BackendInfo QueryBackend(Backend backend)
    {
        var info = new NativeMethods.wpm_backend_info { struct_size = (nuint)sizeof(NativeMethods.wpm_backend_info) };
        Check(NativeMethods.wpm_backend_query(backend, &info));
        return new BackendInfo(backend, info.built != 0, info.available != 0, info.device_count, Utf8(info.reason, 256));
    }

    /// <summary>The CPU features the CPU backend uses on this machine, e.g. "avx2 fma avx512f".</summary>
    public static string CpuFeatures
    {
        get
        {
            byte* features;
            Check(NativeMethods.wpm_cpu_features(&features));
            return Utf8(features);
        }
    }
}
