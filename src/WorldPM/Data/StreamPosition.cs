namespace WorldPM.Data;

/// <summary>
/// Where a streaming read (<see cref="PreferenceDataset.Stream"/>) was when it found a pair: the index of the file among
/// those the read took in (in <see cref="LoadResult.Files"/>' order) and how many of its bytes had been read (on disk,
/// so compressed for gzip), for progress.
/// </summary>
public readonly record struct StreamPosition(int File, long BytesRead);
