namespace WorldPM.Data;

/// <summary>One data path of a <see cref="TokenStorePreparation"/> and what reading it gave.</summary>
public sealed record PreparedPath(string Path, LoadResult Result);
