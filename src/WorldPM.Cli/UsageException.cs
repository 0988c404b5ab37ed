namespace WorldPM.Cli;

/// <summary>
/// A command line that cannot work as given, found before any work starts: an option value out of range,
/// options that exclude each other, a path that does not exist, an unknown tokenizer. Exit code 2.
/// </summary>
internal sealed class UsageException(string message) : Exception(message);
