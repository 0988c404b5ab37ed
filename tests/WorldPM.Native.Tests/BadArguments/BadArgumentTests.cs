using System.Text.RegularExpressions;
using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests.BadArguments;

/// <summary>
/// A bad argument never crashes the process: it reaches the native boundary, which rejects it with a status
/// that the bindings turn into a typed exception whose message names the argument and whose
/// <see cref="WorldPMException.ArgumentName"/> is that argument's name in worldpm.h. Each case is one test.
/// Where the public API would catch a mistake itself (or cannot express it: a freed handle, a NULL out
/// pointer, mismatched dtypes behind the generic types), the case calls <c>NativeMethods</c> directly,
/// through the same status check the public API uses.
/// </summary>
[TestFixture]
public sealed partial class BadArgumentTests
{
    /// <summary>One bad call: what it does, which exception it must raise, and the argument's name as worldpm.h
    /// spells it.</summary>
    public sealed record BadCall(string Name, Type Exception, string Argument, Action<Arena> Call)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<TestCaseData> Cases() =>
        LibraryCases().Concat(MemoryCases()).Concat(LayerCases()).Concat(AttentionCases()).Concat(TrainingCases())
            .Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(Cases))]
    public void IsRejectedWithATypedExceptionThatNamesTheArgument(BadCall bad)
    {
        using var arena = new Arena();

        Exception thrown = Assert.Throws(bad.Exception, () => bad.Call(arena))!;

        Assert.That(thrown.Message, Does.Match(NamingPattern(bad.Argument)));
        Assert.That(((WorldPMException)thrown).ArgumentName, Is.EqualTo(bad.Argument));
        Assert.That(arena.Context.NumThreads, Is.EqualTo(2), "the library still works after the failed call");
    }

    [Test]
    public void ThereAreAtLeastFiftyDistinctCases()
    {
        var names = Cases().Select(c => ((BadCall)c.Arguments[0]!).Name).ToList();
        Assert.That(names, Is.Unique);
        Assert.That(names, Has.Count.GreaterThanOrEqualTo(50));
    }

    /// <summary>
    /// How the library names an argument in its message: quoted (<c>argument 'x' is NULL</c>,
    /// <c>'vocab * c' overflows</c>), or as the subject of a shape message (<c>wpm_cast: n has a negative dimension</c>).
    /// </summary>
    private static string NamingPattern(string argument)
    {
        string name = Regex.Escape(argument);
        return $"'{name}'|: {name} |range {name} ";
    }

    // Builders: the exception type each status maps to, and the argument the message must name.
    private static BadCall Invalid(string name, string argument, Action<Arena> call) =>
        new(name, typeof(WorldPMArgumentException), argument, call);

    private static BadCall OutOfRange(string name, Action<Arena> call) =>
        new(name, typeof(WorldPMArgumentException), "offset", call);

    private static BadCall WrongDType(string name, string argument, Action<Arena> call) =>
        new(name, typeof(WorldPMDTypeException), argument, call);

    private static BadCall WrongContext(string name, string argument, Action<Arena> call) =>
        new(name, typeof(WorldPMWrongContextException), argument, call);
}
