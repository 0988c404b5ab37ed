using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.BadArguments;

public sealed unsafe partial class BadArgumentTests
{
    private static BadCall[] LibraryCases() =>
    [
        Invalid("backend_query: NULL info", "info", _ => Check(NativeMethods.wpm_backend_query(Backend.Cpu, null))),
        Invalid("backend_query: struct_size 0", "info", _ =>
        {
            var info = new NativeMethods.wpm_backend_info();
            Check(NativeMethods.wpm_backend_query(Backend.Cpu, &info));
        }),
        Invalid("backend_query: backend 42", "backend", _ => WorldPMContext.QueryBackend((Backend)42)),
        Invalid("backend_query: auto is not a concrete backend", "backend", _ => WorldPMContext.QueryBackend(Backend.Auto)),
        Invalid("cpu_features: NULL out", "features", _ => Check(NativeMethods.wpm_cpu_features(null))),

        Invalid("context_create: NULL out", "context", _ => Check(NativeMethods.wpm_context_create(null, null))),
        Invalid("context_create: options.struct_size too small", "options", _ =>
        {
            var options = new NativeMethods.wpm_context_options { struct_size = 4, backend = Backend.Cpu };
            nint context;
            Check(NativeMethods.wpm_context_create(&options, &context));
        }),
        Invalid("context_create: backend 9", "options.backend", _ => WorldPMContext.Create((Backend)9)),
        Invalid("context_create: negative threads", "options.num_threads", _ => WorldPMContext.Create(Backend.Cpu, threads: -1)),
        Invalid("context_create: 5000 threads", "options.num_threads", _ => WorldPMContext.Create(Backend.Cpu, threads: 5000)),
        Invalid("context_create: negative device", "options.device", _ => WorldPMContext.Create(Backend.Cpu, device: -1)),

        Invalid("context_backend: NULL out", "backend", a => Check(NativeMethods.wpm_context_backend(a.Ctx, null))),
        Invalid("context_backend: destroyed context", "context", a =>
        {
            Backend backend;
            Check(NativeMethods.wpm_context_backend(a.DestroyedContext(), &backend));
        }),
        Invalid("context_num_threads: NULL out", "num_threads", a => Check(NativeMethods.wpm_context_num_threads(a.Ctx, null))),
        Invalid("synchronize: NULL context", "context", _ => Check(NativeMethods.wpm_synchronize(0))),
        Invalid("context_device_counters: NULL out", "counters", a => Check(NativeMethods.wpm_context_device_counters(a.Ctx, null))),
        Invalid("context_device_counters: struct_size 0", "counters", a =>
        {
            var counters = new NativeMethods.wpm_device_counters();
            Check(NativeMethods.wpm_context_device_counters(a.Ctx, &counters));
        }),
        Invalid("context_profile: NULL context", "context", _ => Check(NativeMethods.wpm_context_profile(0, 1))),
        Invalid("context_profile_kernels: NULL count", "count", a =>
            Check(NativeMethods.wpm_context_profile_kernels(a.Ctx, null, 0, null))),
        Invalid("context_profile_kernels: NULL rows with capacity 1", "kernels", a =>
        {
            nuint count;
            Check(NativeMethods.wpm_context_profile_kernels(a.Ctx, null, 1, &count));
        }),
        Invalid("context_profile_kernels: struct_size 0", "kernels[0]", a =>
        {
            var row = new NativeMethods.wpm_kernel_profile();
            nuint count;
            Check(NativeMethods.wpm_context_profile_kernels(a.Ctx, &row, 1, &count));
        }),
        Invalid("context_destroy: destroyed twice", "context", a => Check(NativeMethods.wpm_context_destroy(a.DestroyedContext()))),
    ];
}
