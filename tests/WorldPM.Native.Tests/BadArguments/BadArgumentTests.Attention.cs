using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.BadArguments;

public sealed unsafe partial class BadArgumentTests
{
    // B 1, T 2, H 2, KVH 1, D 4: q/out/dq 16 elements, k/v/dk/dv 8, lse 4.
    private static readonly AttentionShape Shape = new(1, 2, 2, 1, 4);

    private static BadCall[] AttentionCases() =>
    [
        Invalid("attention_fwd: NULL params", "params", a => Check(NativeMethods.wpm_attention_fwd(a.Ctx, null))),
        Invalid("attention_fwd: struct_size 0", "params", a =>
        {
            var p = new NativeMethods.wpm_attention_params();
            Check(NativeMethods.wpm_attention_fwd(a.Ctx, &p));
        }),
        Invalid("attention_fwd: h not a multiple of kvh", "h", a =>
            Ops.AttentionForward(a.Context, a.F32(24), a.F32(16), a.F32(16), a.F32(24), a.F32(6), new AttentionShape(1, 2, 3, 2, 4))),
        // Reported by the op on cpu, by the next synchronising call on a device backend (worldpm.h, "values in
        // device memory").
        Invalid("attention_fwd: a length of 0", "lengths", a =>
        {
            Ops.AttentionForward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(4), Shape, lengths: a.Upload(0));
            a.Context.Synchronize();
        }),
        Invalid("attention_fwd: padding 5", "padding", a =>
            Ops.AttentionForward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(4), Shape, padding: (Padding)5)),
        Invalid("attention_fwd: lse too small", "lse", a =>
            Ops.AttentionForward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(3), Shape)),
        // Packed offsets too: at once on cpu, at the next synchronising call on a device backend.
        Invalid("attention_fwd: packed offsets not ending at t", "cu_seqlens", a =>
        {
            Ops.AttentionForward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(4), Shape,
                new PackedSequences(a.Upload(0, 1), MaxLength: 2));
            a.Context.Synchronize();
        }),
        Invalid("attention_fwd: packed max_seqlen below a sequence", "max_seqlen", a =>
        {
            Ops.AttentionForward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(4), Shape,
                new PackedSequences(a.Upload(0, 2), MaxLength: 1));
            a.Context.Synchronize();
        }),
        Invalid("attention_bwd: dk too small", "dk", a =>
            Ops.AttentionBackward(a.Context, a.F32(16), a.F32(8), a.F32(8), a.F32(16), a.F32(4), a.F32(16), a.F32(16),
                a.F32(7), a.F32(8), Shape)),
    ];
}
