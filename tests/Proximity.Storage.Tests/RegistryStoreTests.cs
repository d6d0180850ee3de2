using Proximity.Storage.Registry;

namespace Proximity.Storage.Tests;

public sealed class RegistryStoreTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    [Fact]
    public async Task Device_secrets_are_stored_salted_and_hashed_and_verify()
    {
        var registry = new RegistryStore(Database);
        await registry.RegisterDeviceAsync("dev-1", DeviceKind.AnkleMonitor, "s3cret-one", Ct);
        await registry.RegisterDeviceAsync("dev-2", DeviceKind.AnkleMonitor, "s3cret-one", Ct);

        Assert.True(await registry.VerifyDeviceSecretAsync("dev-1", "s3cret-one", Ct));
        Assert.False(await registry.VerifyDeviceSecretAsync("dev-1", "s3cret-two", Ct));
        Assert.False(await registry.VerifyDeviceSecretAsync("dev-unknown", "s3cret-one", Ct));
        // Same secret, different salt: the stored hashes differ and neither contains the secret.
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(DISTINCT secret_hash) FROM device"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM device WHERE position(convert_to('s3cret', 'UTF8') in secret_hash) > 0"));
    }

    [Fact]
    public async Task Assignment_history_answers_who_carried_a_device_when()
    {
        var registry = new RegistryStore(Database);
        await registry.UpsertPersonAsync(new Person("off-1", PersonKind.Offender, "J. Doe", "suspect"), Ct);
        await registry.UpsertPersonAsync(new Person("off-2", PersonKind.Offender, "K. Doe", "parole"), Ct);
        await registry.RegisterDeviceAsync("dev-1", DeviceKind.AnkleMonitor, "x", Ct);
        await registry.AssignDeviceAsync("dev-1", "off-1", Samples.Day0, "probation-1", Ct);
        await registry.AssignDeviceAsync("dev-1", "off-2", Samples.Day0.AddDays(5), "probation-2", Ct);

        Assert.Equal("off-1", await registry.PersonOfDeviceAsync("dev-1", Samples.Day0.AddDays(4), Ct));
        Assert.Equal("off-2", await registry.PersonOfDeviceAsync("dev-1", Samples.Day0.AddDays(5), Ct));
        Assert.Null(await registry.PersonOfDeviceAsync("dev-1", Samples.Day0.AddDays(-1), Ct));
        var history = await registry.AssignmentHistoryAsync("dev-1", Ct);
        Assert.Equal([("off-1", (DateTimeOffset?)Samples.Day0.AddDays(5)), ("off-2", null)], history.Select(a => (a.PersonId, a.Until)));

        // A person cannot change from offender to victim by an upsert.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            registry.UpsertPersonAsync(new Person("off-1", PersonKind.Victim, "J. Doe", "protected"), Ct));
    }
}
