namespace WorldPM.Data;

/// <summary>
/// Whether bytes hold one well-formed struct of Thrift's compact protocol (the encoding of a Parquet footer),
/// walked by its wire types alone: field headers, varints, binaries, lists, sets, maps and nested structs, each
/// inside the bytes given. Parquet.Net's reader loops forever on a footer whose varint runs past the end of the
/// footer (reading past the end yields 0xFF, a continuation byte, without end), so a footer is checked here
/// first; a well-formed struct lets that reader stop where this walk stops.
/// </summary>
internal static class ThriftCompactShape
{
    /// <summary>Nesting deeper than this is refused: a Parquet footer nests a few levels (schema elements are a flat list).</summary>
    private const int MaxDepth = 64;

    /// <summary>What is wrong with <paramref name="bytes"/> as one compact-protocol struct, or null when it is one
    /// (bytes after the struct's end are allowed, as Parquet.Net ignores them).</summary>
    public static string? Problem(ReadOnlySpan<byte> bytes)
    {
        var walk = new Walk(bytes);
        return walk.Struct(0);
    }

    private ref struct Walk(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        private readonly string Where => $"at byte {_at} of {_bytes.Length}";

        public string? Struct(int depth)
        {
            if (depth > MaxDepth)
                return $"structs nest deeper than {MaxDepth} levels {Where}";
            while (true)
            {
                if (_at >= _bytes.Length)
                    return $"a struct does not end before the footer does ({_bytes.Length} bytes)";
                byte header = _bytes[_at++];
                int type = header & 0x0F;
                if (type == 0)
                    return null; // STOP
                if (header >> 4 == 0 && Varint(maxBytes: 3) is { } fieldId)
                    return fieldId;
                if (type is 1 or 2)
                    continue; // a boolean field's value is its type
                if (Value(type, depth) is { } problem)
                    return problem;
            }
        }

        /// <summary>Skips one value of wire type <paramref name="type"/> (booleans inside collections take a byte).</summary>
        private string? Value(int type, int depth)
        {
            switch (type)
            {
                case 1 or 2 or 3:
                    return Skip(1);
                case 4 or 5:
                    return Varint(maxBytes: 5);
                case 6:
                    return Varint(maxBytes: 10);
                case 7:
                    return Skip(8);
                case 8:
                {
                    if (Length() is not { } length)
                        return $"a binary's length is not a varint {Where}";
                    return Skip(length);
                }
                case 9 or 10:
                    return Collection(depth);
                case 11:
                    return Map(depth);
                case 12:
                    return Struct(depth + 1);
                default:
                    return $"unknown compact-protocol type {type} {Where}";
            }
        }

        private string? Collection(int depth)
        {
            if (_at >= _bytes.Length)
                return $"a list header is cut off {Where}";
            byte header = _bytes[_at++];
            long count = header >> 4;
            if (count == 15)
            {
                if (Length() is not { } large)
                    return $"a list's size is not a varint {Where}";
                count = large;
            }
            return Elements(count, header & 0x0F, depth);
        }

        private string? Elements(long count, int type, int depth)
        {
            // Every element takes at least one byte, so a count beyond the bytes left is damage, not a long wait.
            if (count > _bytes.Length - _at)
                return $"a collection of {count} elements cannot fit in the {_bytes.Length - _at} bytes left {Where}";
            for (long i = 0; i < count; i++)
                if (Value(type, depth + 1) is { } problem)
                    return problem;
            return null;
        }

        private string? Map(int depth)
        {
            if (Length() is not { } count)
                return $"a map's size is not a varint {Where}";
            if (count == 0)
                return null;
            if (_at >= _bytes.Length)
                return $"a map's types are cut off {Where}";
            byte types = _bytes[_at++];
            if (2 * count > _bytes.Length - _at)
                return $"a map of {count} entries cannot fit in the {_bytes.Length - _at} bytes left {Where}";
            for (long i = 0; i < count; i++)
            {
                if (Value(types >> 4, depth + 1) is { } key)
                    return key;
                if (Value(types & 0x0F, depth + 1) is { } value)
                    return value;
            }
            return null;
        }

        private string? Skip(long count)
        {
            if (count > _bytes.Length - _at)
                return $"a value of {count} bytes runs past the end {Where}";
            _at += (int)count;
            return null;
        }

        /// <summary>Skips a varint of at most <paramref name="maxBytes"/> bytes.</summary>
        private string? Varint(int maxBytes)
        {
            for (int i = 0; i < maxBytes; i++)
            {
                if (_at >= _bytes.Length)
                    return $"a varint runs past the end {Where}";
                if ((_bytes[_at++] & 0x80) == 0)
                    return null;
            }
            return $"a varint is longer than {maxBytes} bytes {Where}";
        }

        /// <summary>A non-negative 32-bit varint (sizes and lengths), or null.</summary>
        private long? Length()
        {
            long value = 0;
            for (int shift = 0; shift < 35; shift += 7)
            {
                if (_at >= _bytes.Length)
                    return null;
                byte b = _bytes[_at++];
                value |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    return value <= int.MaxValue ? value : null;
            }
            return null;
        }
    }
}
