namespace WorldPM.Tests.Checkpoints;

/// <summary>Passes writes through to an inner stream until <c>failAfter</c> bytes, then throws: a crash or a full disk mid-write.</summary>
internal sealed class FailingStream(Stream inner, long failAfter) : Stream
{
    private long written;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int allowed = (int)Math.Min(buffer.Length, failAfter - written);
        inner.Write(buffer[..allowed]);
        written += allowed;
        if (allowed < buffer.Length) throw new IOException("simulated crash: no space left on device");
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => written; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
