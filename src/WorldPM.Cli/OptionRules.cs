using System.CommandLine;
using System.Globalization;

namespace WorldPM.Cli;

/// <summary>Range checks on option values, reported as parse errors (exit 2) that name the option.</summary>
internal static class OptionRules
{
    /// <summary>Adds a check that the option's value satisfies <paramref name="ok"/>; <paramref name="rule"/> says what it must be.</summary>
    public static Option<T> Must<T>(this Option<T> option, Func<T, bool> ok, string rule)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;  // the value did not parse: the parser reports that error, naming the option
            }
            if (value is not null && !ok(value))
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} is {value}; it must be {rule}."));
        });
        return option;
    }

    public static Option<int> AtLeast(this Option<int> option, int min) => option.Must(v => v >= min, $"at least {min}");

    public static Option<int?> AtLeast(this Option<int?> option, int min) => option.Must(v => v >= min, $"at least {min}");

    public static Option<long?> AtLeast(this Option<long?> option, long min) => option.Must(v => v >= min, $"at least {min}");

    public static Option<long> AtLeast(this Option<long> option, long min) => option.Must(v => v >= min, $"at least {min}");

    public static Option<double> InRange(this Option<double> option, double min, double max, string rule) =>
        option.Must(v => v >= min && v <= max, rule);

    public static Option<double?> InRange(this Option<double?> option, double min, double max, string rule) =>
        option.Must(v => v >= min && v <= max, rule);
}
