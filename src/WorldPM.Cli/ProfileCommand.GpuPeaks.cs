namespace WorldPM.Cli;

internal static partial class ProfileCommand
{
    /// <summary>A GPU's published peaks: DRAM bandwidth, dense tensor-core fp16/bf16 and fp32 (non-tensor) FLOP/s.</summary>
    internal sealed record GpuPeaks(string Name, double BytesPerSecond, double Fp16TensorFlops, double Fp32Flops, string Source);

    /// <summary>
    /// The GPUs the estimate names, from the vendor's datasheets. The datasheets give tensor-core figures with
    /// structured sparsity; the dense figure used here is half of that, as their footnotes say.
    /// </summary>
    internal static readonly GpuPeaks[] Gpus =
    [
        new("A100 80GB", 2.039e12, 312e12, 19.5e12,
            "NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB: HBM2e 2,039 GB/s; BF16/FP16 tensor 312 TFLOPS dense; FP32 19.5 TFLOPS)"),
        new("H100 SXM", 3.35e12, 989.5e12, 67e12,
            "NVIDIA H100 Tensor Core GPU datasheet (SXM: 3.35 TB/s; BF16/FP16 tensor 1,979 TFLOPS with sparsity, 989.5 dense; FP32 67 TFLOPS)"),
        new("H200", 4.8e12, 989.5e12, 67e12,
            "NVIDIA H200 Tensor Core GPU datasheet (SXM: 4.8 TB/s; BF16/FP16 tensor 1,979 TFLOPS with sparsity, 989.5 dense; FP32 67 TFLOPS)"),
    ];
}
