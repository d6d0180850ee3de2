using Proximity.Spatial.Decisions;

namespace Proximity.Storage.Positions;

/// <summary>A fix as kept in the position history: the device's report plus when and for whom it arrived.</summary>
public readonly record struct StoredFix(PositionFix Fix, DateTimeOffset ReceivedAt, string? PersonId = null);
