namespace EdgeRouter.Placement;

/// <summary>
/// Capacity shared by several instances: a reservation holds bytes on a storage until its upload is committed
/// (or fails), checked against what every instance has stored and reserved, so concurrent uploads from several
/// instances cannot together overfill a storage. A reservation expires on its own, so a crashed instance's
/// reservations do not hold room for ever. The shared catalog implements it; one instance alone needs none.
/// </summary>
public interface ICapacityLedger
{
    /// <summary>Reserves <paramref name="bytes"/> if the storage then stays within <paramref name="capacityBytes"/>; null when it would not.</summary>
    Task<Guid?> TryReserveAsync(string storageId, long bytes, long capacityBytes, CancellationToken cancellationToken);

    Task ReleaseAsync(Guid reservation, CancellationToken cancellationToken);
}
