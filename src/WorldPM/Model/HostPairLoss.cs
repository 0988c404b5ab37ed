namespace WorldPM.Model;

/// <summary>A loss computed on the host from the pairs' rewards: returns the loss and writes d loss / d reward of every
/// chosen and rejected response (see <see cref="IRewardNetwork.ForwardBackward"/>).</summary>
internal delegate double HostPairLoss(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected, Span<float> dChosen,
    Span<float> dRejected);
