using Proximity.Server.Commands;

return await CommandLine.RunAsync(args);
