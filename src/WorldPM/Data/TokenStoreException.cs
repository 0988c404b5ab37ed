namespace WorldPM.Data;

/// <summary>
/// A token store that cannot be used: damaged (cut short, an offset or id out of range, a wrong magic or version) or made
/// for another model (tokenizer, max length, scoring token). The message names the file and what is wrong.
/// </summary>
public sealed class TokenStoreException : IOException
{
    public TokenStoreException(string path, string problem)
        : base($"token store '{path}': {problem}")
    {
        StorePath = path;
        Problem = problem;
    }

    /// <summary>The store file at fault.</summary>
    public string StorePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
