using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.BadArguments;

public sealed unsafe partial class BadArgumentTests
{
    private static BadCall[] MemoryCases() =>
    [
        Invalid("buffer_alloc: NULL context", "context", _ =>
        {
            nint buffer;
            Check(NativeMethods.wpm_buffer_alloc(0, DType.F32, 4, &buffer));
        }),
        Invalid("buffer_alloc: destroyed context", "context", a =>
        {
            nint buffer;
            Check(NativeMethods.wpm_buffer_alloc(a.DestroyedContext(), DType.F32, 4, &buffer));
        }),
        Invalid("buffer_alloc: dtype 7", "dtype", a =>
        {
            nint buffer;
            Check(NativeMethods.wpm_buffer_alloc(a.Ctx, (DType)7, 4, &buffer));
        }),
        Invalid("buffer_alloc: 2^41 elements", "count", a => a.Context.Allocate<float>(1L << 41)),
        Invalid("buffer_alloc: NULL out", "buffer", a => Check(NativeMethods.wpm_buffer_alloc(a.Ctx, DType.F32, 4, null))),

        Invalid("buffer_view: NULL parent", "parent", _ =>
        {
            nint view;
            Check(NativeMethods.wpm_buffer_view(0, 0, 1, &view));
        }),
        Invalid("buffer_view: NULL out", "view", a => Check(NativeMethods.wpm_buffer_view(Arena.P(a.F32(8)), 0, 1, null))),
        OutOfRange("buffer_view: window past the end", a => a.F32(8).View(6, 4)),
        OutOfRange("buffer_view: offset + count overflows size_t", a =>
        {
            nint view;
            Check(NativeMethods.wpm_buffer_view(Arena.P(a.F32(8)), nuint.MaxValue, 2, &view));
        }),

        Invalid("buffer_free: freed buffer", "buffer", a => Check(NativeMethods.wpm_buffer_free(a.FreedBuffer()))),
        Invalid("buffer_info: freed buffer", "buffer", a =>
        {
            DType dtype;
            Check(NativeMethods.wpm_buffer_info(a.FreedBuffer(), &dtype, null));
        }),
        Invalid("buffer_info: NULL buffer", "buffer", _ => Check(NativeMethods.wpm_buffer_info(0, null, null))),

        Invalid("buffer_write: NULL host", "host", a => Check(NativeMethods.wpm_buffer_write(Arena.P(a.F32(8)), 0, null, 4))),
        OutOfRange("buffer_write: more elements than the buffer", a => a.F32(4).CopyFrom(new float[5])),
        OutOfRange("buffer_write: offset past the end", a => a.F32(4).CopyFrom(new float[1], offset: 4)),
        Invalid("buffer_read: NULL host", "host", a => Check(NativeMethods.wpm_buffer_read(Arena.P(a.F32(8)), 0, null, 4))),
        OutOfRange("buffer_read: more elements than the buffer", a => a.F32(4).CopyTo(new float[6])),

        WrongDType("buffer_copy: f16 into f32", "src", a => Check(NativeMethods.wpm_buffer_copy(Arena.P(a.F32(4)), Arena.P(a.F16(4))))),
        Invalid("buffer_copy: counts differ", "src", a => a.F32(4).CopyFrom(a.F32(5))),
        WrongContext("buffer_copy: source of another context", "src", a => a.F32(4).CopyFrom(a.Foreign(4))),
        Invalid("buffer_copy: NULL dst", "dst", a => Check(NativeMethods.wpm_buffer_copy(0, Arena.P(a.F32(4))))),

        Invalid("buffer_fill: fraction into i32", "value", a => a.I32(4).Fill(0.5)),
        Invalid("buffer_fill: 3e9 into i32", "value", a => a.I32(4).Fill(3e9)),
        Invalid("fill_uniform: low above high", "low", a => a.F32(4).FillUniform(1, low: 1, high: 0)),
        Invalid("fill_uniform: NaN low", "low", a => a.F32(4).FillUniform(1, low: float.NaN)),
        WrongDType("fill_uniform: i32 buffer", "buffer", a => a.I32(4).FillUniform(1)),
        Invalid("fill_normal: negative stddev", "stddev", a => a.F32(4).FillNormal(1, stddev: -1)),
        Invalid("fill_normal: infinite mean", "mean", a => a.F32(4).FillNormal(1, mean: float.PositiveInfinity)),
        Invalid("fill_normal: freed buffer", "buffer", a => Check(NativeMethods.wpm_fill_normal(a.FreedBuffer(), 1, 0, 1))),
    ];
}
