// Optim: see the files of this folder.
