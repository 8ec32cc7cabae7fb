using PeftSharp.Cli;

return PeftCli.Run(args, Console.Out, Console.Error);
