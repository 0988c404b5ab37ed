namespace WorldPM.Data;

/// <summary>Reads one file of one format, handing pairs and bad records to the collector.</summary>
internal interface IPairReader
{
    void Read(DataSource source, PairCollector collector);
}
