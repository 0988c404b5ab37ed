using System.IO.MemoryMappedFiles;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>Reads through a few mapped windows return the file's bytes, across window edges and after evictions, with
/// never more windows mapped than allowed.</summary>
public class MappedWindowCacheTests
{
    [Test]
    public void RandomReadsReturnTheFilesBytesWithABoundedNumberOfWindows()
    {
        using var folder = new TempFolder();
        string path = System.IO.Path.Combine(folder.Path, "bytes.bin");
        var expected = new byte[50_000];
        new Random(3).NextBytes(expected);
        File.WriteAllBytes(path, expected);

        using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var cache = new MappedWindowCache(file, expected.Length, windowBytes: 4096, maxWindows: 2);
        var random = new Random(9);
        for (int i = 0; i < 500; i++)
        {
            int at = random.Next(expected.Length), length = random.Next(1 + Math.Min(10_000, expected.Length - at));
            var actual = new byte[length];
            cache.Read(at, actual);
            Assert.That(actual, Is.EqualTo(expected.AsSpan(at, length).ToArray()), $"bytes [{at}, {at + length})");
            Assert.That(cache.MappedWindows, Is.LessThanOrEqualTo(2));
        }
        var last = new byte[7];
        cache.Read(expected.Length - 7, last);
        Assert.That(last, Is.EqualTo(expected[^7..]), "the file's last, partial window");
    }
}
