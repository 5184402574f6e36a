// edgelm command line: run, tokenize, logits.
int main() { return 0; }
