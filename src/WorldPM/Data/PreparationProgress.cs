namespace WorldPM.Data;

/// <summary>How far a <see cref="TokenStorePreparation"/> has come: input bytes read of the total, pairs and tokens written.</summary>
public readonly record struct PreparationProgress(long BytesRead, long TotalBytes, long Pairs, long Tokens);
