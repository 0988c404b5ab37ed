namespace WorldPM.Data;

/// <summary>
/// The lines of a stream as bytes, without their '\n', read in large blocks: the JSONL readers check each line's UTF-8
/// themselves (a line is the unit a bad record is reported for), which a decoding TextReader would have done ahead
/// of the line being read. A line is valid until the next call.
/// </summary>
internal sealed class ByteLines(Stream stream)
{
    private byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private bool _ended;

    /// <summary>The next line, or false at the end of the stream (a last line without '\n' is a line).</summary>
    public bool Next(out ReadOnlyMemory<byte> line)
    {
        while (true)
        {
            int newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = new ReadOnlyMemory<byte>(_buffer, _start, newline);
                _start += newline + 1;
                return true;
            }
            if (_ended)
            {
                line = new ReadOnlyMemory<byte>(_buffer, _start, _end - _start);
                bool any = _end > _start;
                _start = _end;
                return any;
            }
            Fill();
        }
    }

    /// <summary>Moves the unread bytes to the front, grows the buffer for a line longer than it, and reads more.</summary>
    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int read = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _ended = true;
        _end += read;
    }
}
