using System.Runtime.InteropServices;

namespace WorldPM.Cli;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM while a command prepares data: instead of ending the process at once, which would leave a
/// half-written store or a scratch folder behind, a signal cancels <see cref="Token"/> (the preparation looks at it with
/// every pair read) and the command's own thread cleans up and throws <see cref="Interrupted"/>. After
/// <see cref="EndPreparation"/> a signal runs <c>afterPreparation</c> (when given) and lets the process end as it would.
/// </summary>
internal sealed class PreparationSignals : IDisposable
{
    private readonly CancellationTokenSource _interrupt = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Lock _lock = new();
    private readonly Action? _afterPreparation;
    private bool _preparing = true;
    private PosixSignal? _signal;

    public PreparationSignals(Action? afterPreparation = null)
    {
        _afterPreparation = afterPreparation;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by the first signal while preparing.</summary>
    public CancellationToken Token => _interrupt.Token;

    /// <summary>From here a signal no longer stops the preparation; one that came before it still ends the command
    /// (<see cref="OperationCanceledException"/>).</summary>
    public void EndPreparation()
    {
        lock (_lock) _preparing = false;
        _interrupt.Token.ThrowIfCancellationRequested();
    }

    /// <summary>The exception that ends the command when a signal cancelled <paramref name="cancelled"/>'s work, null
    /// when the cancellation was not a signal's; <paramref name="doing"/> says what was stopped ("preparing data").</summary>
    public CommandInterruptedException? Interrupted(OperationCanceledException cancelled, string doing)
    {
        ArgumentNullException.ThrowIfNull(cancelled);
        lock (_lock) return _signal is { } signal ? new CommandInterruptedException(signal, doing) : null;
    }

    private void OnSignal(PosixSignalContext context)
    {
        lock (_lock)
        {
            if (_preparing)
            {
                context.Cancel = true;
                _signal ??= context.Signal;
                _interrupt.Cancel();
                return;
            }
        }
        _afterPreparation?.Invoke();
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations) registration.Dispose();
        _interrupt.Dispose();
    }
}
