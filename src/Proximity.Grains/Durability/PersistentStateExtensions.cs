using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Proximity.Grains.Durability;

public static class PersistentStateExtensions
{
    /// <summary>
    /// Writes a grain's state; false (logged) when it failed, so the caller keeps it dirty and writes again later.
    /// Deciding never waits for storage to come back. A stale etag (an earlier write that succeeded but whose reply
    /// was lost) is refreshed from storage while the state in memory, which is newer, is kept.
    /// </summary>
    public static async Task<bool> TryWriteStateAsync<T>(this IPersistentState<T> state, ILogger logger, string grain, string id)
    {
        try
        {
            await state.WriteStateAsync();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("{Grain} {Id}: saving state failed ({Error}); kept in memory and written again later", grain, id, e.Message);
            if (e is InconsistentStateException)
            {
                var current = state.State;
                try { await state.ReadStateAsync(); } catch (Exception re) when (re is not OperationCanceledException) { }
                state.State = current;
            }
            return false;
        }
    }
}
