@_exported import NN
@_exported import Optim
@_exported import Data
