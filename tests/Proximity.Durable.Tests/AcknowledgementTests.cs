using Proximity.Ingest.Tests;
using Proximity.Storage.Tests;

namespace Proximity.Grains.Durable.Tests;

/// <summary>Store before acknowledge, with the embedded broker on PostgreSQL: a PUBACK means the fix is in the history.</summary>
public sealed class AcknowledgementTests(PostgresFixture fixture)
{
    [Fact]
    public async Task On_PostgreSQL_the_embedded_broker_acknowledges_a_fix_only_once_it_is_in_the_position_history()
    {
        string cs = await fixture.Server.CreateDatabaseAsync();
        // A long batch interval: only an acknowledgement that waits for the write finds the row at once.
        await using var service = await LiveService.StartAsync(ServiceHost.Case("1"), cs, more: new Dictionary<string, string?>
        {
            ["Proximity:Storage:PositionBuffer:FlushInterval"] = "00:00:30",
        });
        await using var ankle = await MqttTestClient.ConnectAsync(service.MqttPort, "A1", "ankle-secret");
        for (int seq = 1; seq <= 5; seq++)
        {
            var result = await ankle.PublishAsync(LiveService.PositionTopic("A1"), LiveService.Fix(seq, DateTimeOffset.UtcNow, 5000));
            Assert.True(result.IsSuccess, result.ReasonCode.ToString());
            Assert.Contains(seq, await LiveService.StoredSeqsAsync(cs, "A1"));
        }
    }
}
