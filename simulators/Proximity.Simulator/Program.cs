using Proximity.Simulator.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await CommandLine.RunAsync(args, cts.Token);
